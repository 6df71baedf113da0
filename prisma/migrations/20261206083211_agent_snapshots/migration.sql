-- CreateTable
CREATE TABLE "agent_snapshot" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "agentId" TEXT,
    "agentName" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'creating',
    "error" TEXT,
    "note" TEXT,
    "sizeBytes" BIGINT NOT NULL DEFAULT 0,
    "contentBytes" BIGINT NOT NULL DEFAULT 0,
    "fileCount" INTEGER NOT NULL DEFAULT 0,
    "durationMs" INTEGER,
    "image" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),
    "restoredAt" TIMESTAMP(3),

    CONSTRAINT "agent_snapshot_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "agent_snapshot_projectId_agentId_idx" ON "agent_snapshot"("projectId", "agentId");

-- AddForeignKey
ALTER TABLE "agent_snapshot" ADD CONSTRAINT "agent_snapshot_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_snapshot" ADD CONSTRAINT "agent_snapshot_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_snapshot" ADD CONSTRAINT "agent_snapshot_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;
