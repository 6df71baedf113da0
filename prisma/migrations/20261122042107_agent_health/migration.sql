-- CreateEnum
CREATE TYPE "AgentRestartPolicy" AS ENUM ('never', 'on_failure');

-- AlterTable
ALTER TABLE "agent" ADD COLUMN     "autoRestartCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "lastAutoRestartAt" TIMESTAMP(3),
ADD COLUMN     "restartPolicy" "AgentRestartPolicy" NOT NULL DEFAULT 'on_failure';

-- CreateTable
CREATE TABLE "agent_activity" (
    "id" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "agent_activity_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "agent_activity_agentId_createdAt_idx" ON "agent_activity"("agentId", "createdAt");

-- AddForeignKey
ALTER TABLE "agent_activity" ADD CONSTRAINT "agent_activity_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;
