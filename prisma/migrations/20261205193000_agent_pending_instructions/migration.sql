-- AlterTable
ALTER TABLE "agent" ADD COLUMN     "pendingInstructions" TEXT;
