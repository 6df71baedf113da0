-- AlterTable
ALTER TABLE "agent" ADD COLUMN     "capabilities" JSONB,
ADD COLUMN     "capabilitiesAt" TIMESTAMP(3),
ADD COLUMN     "configReloadedAt" TIMESTAMP(3);
