-- AlterTable
ALTER TABLE "agent" ADD COLUMN     "lastMessageAt" TIMESTAMP(3);
