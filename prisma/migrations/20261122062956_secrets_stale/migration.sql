-- AlterTable
ALTER TABLE "agent" ADD COLUMN     "secretsStale" BOOLEAN NOT NULL DEFAULT false;
