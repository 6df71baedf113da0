-- AlterTable
ALTER TABLE "agent_repository" ADD COLUMN     "knownHosts" TEXT;
