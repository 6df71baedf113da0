-- CreateEnum
CREATE TYPE "AgentDesiredState" AS ENUM ('running', 'stopped');

-- CreateEnum
CREATE TYPE "AgentObservedState" AS ENUM ('creating', 'created', 'running', 'restarting', 'paused', 'exited', 'dead', 'removing', 'missing', 'unknown');

-- CreateTable
CREATE TABLE "template" (
    "id" TEXT NOT NULL,
    "projectId" TEXT,
    "name" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "image" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "providerBaseUrl" TEXT,
    "providerKeySecret" TEXT,
    "memoryMb" INTEGER NOT NULL,
    "cpus" DOUBLE PRECISION NOT NULL,
    "pidsLimit" INTEGER NOT NULL,
    "env" JSONB NOT NULL DEFAULT '{}',
    "instructions" TEXT NOT NULL DEFAULT '',
    "personality" TEXT NOT NULL DEFAULT '',
    "permissionMode" TEXT NOT NULL DEFAULT 'acceptEdits',
    "allowedTools" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "volumes" JSONB NOT NULL DEFAULT '[]',
    "source" TEXT NOT NULL DEFAULT 'api',
    "sourceFile" TEXT,
    "sourceHash" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "template_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agent" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "templateId" TEXT NOT NULL,
    "image" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "memoryMb" INTEGER NOT NULL,
    "cpus" DOUBLE PRECISION NOT NULL,
    "pidsLimit" INTEGER NOT NULL,
    "env" JSONB NOT NULL DEFAULT '{}',
    "permissionMode" TEXT NOT NULL,
    "desiredState" "AgentDesiredState" NOT NULL DEFAULT 'stopped',
    "observedState" "AgentObservedState" NOT NULL DEFAULT 'creating',
    "statusDetail" TEXT,
    "containerId" TEXT,
    "containerConfigHash" TEXT,
    "exitCode" INTEGER,
    "oomKilled" BOOLEAN NOT NULL DEFAULT false,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "observedAt" TIMESTAMP(3),
    "workspaceVolume" TEXT NOT NULL,
    "sessionVolume" TEXT NOT NULL,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "agent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "template_projectId_name_key" ON "template"("projectId", "name");

-- CreateIndex
CREATE INDEX "agent_projectId_idx" ON "agent"("projectId");

-- CreateIndex
CREATE INDEX "agent_containerId_idx" ON "agent"("containerId");

-- CreateIndex
CREATE UNIQUE INDEX "agent_projectId_name_key" ON "agent"("projectId", "name");

-- AddForeignKey
ALTER TABLE "template" ADD CONSTRAINT "template_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent" ADD CONSTRAINT "agent_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent" ADD CONSTRAINT "agent_templateId_fkey" FOREIGN KEY ("templateId") REFERENCES "template"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent" ADD CONSTRAINT "agent_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;
