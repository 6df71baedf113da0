-- CreateTable
CREATE TABLE "secret" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "agentId" TEXT,
    "scope" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "ciphertext" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "secret_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agent_update" (
    "id" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "fromImage" TEXT NOT NULL,
    "toImage" TEXT NOT NULL,
    "envKeys" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "status" TEXT NOT NULL,
    "error" TEXT,
    "steps" JSONB NOT NULL DEFAULT '[]',
    "oldContainerId" TEXT,
    "newContainerId" TEXT,
    "byUserId" TEXT,
    "byName" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    "durationMs" INTEGER,

    CONSTRAINT "agent_update_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "secret_agentId_idx" ON "secret"("agentId");

-- CreateIndex
CREATE UNIQUE INDEX "secret_projectId_scope_name_key" ON "secret"("projectId", "scope", "name");

-- CreateIndex
CREATE INDEX "agent_update_agentId_startedAt_idx" ON "agent_update"("agentId", "startedAt");

-- AddForeignKey
ALTER TABLE "secret" ADD CONSTRAINT "secret_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "secret" ADD CONSTRAINT "secret_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_update" ADD CONSTRAINT "agent_update_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;
