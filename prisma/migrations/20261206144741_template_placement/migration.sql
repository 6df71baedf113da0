-- AlterTable
ALTER TABLE "template" ADD COLUMN     "placementConstraints" TEXT[] DEFAULT ARRAY[]::TEXT[];
