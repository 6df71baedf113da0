-- Issue 12 (safe to share): the instance admin, invitations, registered model providers, the
-- egress allowlist, and the instance-level security log.
--
-- Templates' free-form provider base URLs become providers the instance admin must confirm
-- (confirmed = false: the gateway refuses them until then); one provider per distinct
-- (base URL, key secret) pair.

-- AlterTable
ALTER TABLE "template" ADD COLUMN     "egressAllowlist" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "providerId" TEXT;

-- AlterTable
ALTER TABLE "user" ADD COLUMN     "disabledAt" TIMESTAMP(3),
ADD COLUMN     "isAdmin" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "lastSeenAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "invitation" (
    "id" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "role" "ProjectRole" NOT NULL,
    "email" TEXT,
    "createdById" TEXT,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "usedById" TEXT,
    "revokedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "invitation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "provider" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "baseUrl" TEXT NOT NULL,
    "keySecret" TEXT,
    "allowedModels" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "confirmed" BOOLEAN NOT NULL DEFAULT true,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "provider_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "security_event" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "ip" TEXT,
    "userAgent" TEXT,
    "requestId" TEXT NOT NULL,
    "input" JSONB,

    CONSTRAINT "security_event_pkey" PRIMARY KEY ("id")
);

-- Data: migrate free-form providers to unconfirmed registered ones.
INSERT INTO "provider" ("id", "name", "baseUrl", "keySecret", "confirmed", "updatedAt")
SELECT gen_random_uuid()::text,
       'migrated-' || substr(md5(p."providerBaseUrl" || '|' || coalesce(p."providerKeySecret", '')), 1, 8),
       rtrim(p."providerBaseUrl", '/'),
       p."providerKeySecret",
       false,
       CURRENT_TIMESTAMP
FROM (SELECT DISTINCT "providerBaseUrl", "providerKeySecret" FROM "template" WHERE "providerBaseUrl" IS NOT NULL) p;

UPDATE "template" t SET "providerId" = pr."id"
FROM "provider" pr
WHERE t."providerBaseUrl" IS NOT NULL
  AND pr."name" = 'migrated-' || substr(md5(t."providerBaseUrl" || '|' || coalesce(t."providerKeySecret", '')), 1, 8);

ALTER TABLE "template" DROP COLUMN "providerBaseUrl",
DROP COLUMN "providerKeySecret";

-- Data: on an instance that already has accounts, the oldest becomes the instance admin.
UPDATE "user" SET "isAdmin" = true WHERE "id" = (SELECT "id" FROM "user" ORDER BY "createdAt" ASC, "id" ASC LIMIT 1);

-- CreateIndex
CREATE UNIQUE INDEX "invitation_tokenHash_key" ON "invitation"("tokenHash");

-- CreateIndex
CREATE INDEX "invitation_projectId_idx" ON "invitation"("projectId");

-- CreateIndex
CREATE UNIQUE INDEX "provider_name_key" ON "provider"("name");

-- CreateIndex
CREATE INDEX "security_event_at_idx" ON "security_event"("at");

-- AddForeignKey
ALTER TABLE "template" ADD CONSTRAINT "template_providerId_fkey" FOREIGN KEY ("providerId") REFERENCES "provider"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invitation" ADD CONSTRAINT "invitation_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invitation" ADD CONSTRAINT "invitation_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;
