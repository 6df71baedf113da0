-- CreateEnum
CREATE TYPE "GitCloneState" AS ENUM ('pending', 'cloning', 'ready', 'failed');

-- AlterTable
ALTER TABLE "chat_session" ADD COLUMN     "gitBase" TEXT,
ADD COLUMN     "gitBranch" TEXT,
ADD COLUMN     "gitWorktree" TEXT,
ADD COLUMN     "pullRequestNumber" INTEGER,
ADD COLUMN     "pullRequestUrl" TEXT;

-- AlterTable
ALTER TABLE "template" ADD COLUMN     "repository" JSONB;

-- CreateTable
CREATE TABLE "agent_repository" (
    "agentId" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "branch" TEXT,
    "credentialSecret" TEXT,
    "credentialUser" TEXT NOT NULL DEFAULT 'x-access-token',
    "cloneState" "GitCloneState" NOT NULL DEFAULT 'pending',
    "clonePercent" INTEGER NOT NULL DEFAULT 0,
    "clonePhase" TEXT,
    "cloneError" TEXT,
    "clonedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "agent_repository_pkey" PRIMARY KEY ("agentId")
);

-- AddForeignKey
ALTER TABLE "agent_repository" ADD CONSTRAINT "agent_repository_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;
