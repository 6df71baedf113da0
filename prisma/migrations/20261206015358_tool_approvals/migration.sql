-- CreateEnum
CREATE TYPE "ApprovalStatus" AS ENUM ('pending', 'allowed', 'denied', 'expired', 'cancelled');

-- AlterTable
ALTER TABLE "agent" ADD COLUMN     "approvalTimeoutSec" INTEGER,
ADD COLUMN     "toolPolicy" JSONB;

-- AlterTable
ALTER TABLE "chat_session" ADD COLUMN     "approvalRules" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "template" ADD COLUMN     "toolPolicy" JSONB NOT NULL DEFAULT '{"allow":[],"ask":[],"deny":[]}';

-- AlterTable
ALTER TABLE "trust_grant" ADD COLUMN     "exec" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "approval" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "toolName" TEXT NOT NULL,
    "toolUseId" TEXT,
    "input" JSONB NOT NULL,
    "summary" TEXT NOT NULL,
    "diff" TEXT,
    "suggestedRule" TEXT,
    "status" "ApprovalStatus" NOT NULL DEFAULT 'pending',
    "decidedByKind" TEXT,
    "decidedById" TEXT,
    "decidedByName" TEXT,
    "message" TEXT,
    "remember" TEXT,
    "rule" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "decidedAt" TIMESTAMP(3),

    CONSTRAINT "approval_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "approval_projectId_createdAt_idx" ON "approval"("projectId", "createdAt");

-- CreateIndex
CREATE INDEX "approval_agentId_createdAt_idx" ON "approval"("agentId", "createdAt");

-- CreateIndex
CREATE INDEX "approval_status_idx" ON "approval"("status");

-- CreateIndex
CREATE INDEX "approval_runId_idx" ON "approval"("runId");

-- AddForeignKey
ALTER TABLE "approval" ADD CONSTRAINT "approval_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "approval" ADD CONSTRAINT "approval_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "approval" ADD CONSTRAINT "approval_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "chat_session"("id") ON DELETE CASCADE ON UPDATE CASCADE;
