-- CreateEnum
CREATE TYPE "ChatRunStatus" AS ENUM ('running', 'completed', 'failed', 'interrupted');

-- CreateTable
CREATE TABLE "chat_session" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "claudeSessionId" TEXT,
    "title" TEXT NOT NULL,
    "createdById" TEXT,
    "lastSeq" INTEGER NOT NULL DEFAULT 0,
    "turns" INTEGER NOT NULL DEFAULT 0,
    "inputTokens" INTEGER NOT NULL DEFAULT 0,
    "outputTokens" INTEGER NOT NULL DEFAULT 0,
    "cacheReadTokens" INTEGER NOT NULL DEFAULT 0,
    "cacheCreationTokens" INTEGER NOT NULL DEFAULT 0,
    "costUsd" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "chat_session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "chat_run" (
    "id" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "userId" TEXT,
    "message" TEXT NOT NULL,
    "status" "ChatRunStatus" NOT NULL DEFAULT 'running',
    "error" TEXT,
    "mode" TEXT NOT NULL DEFAULT 'oneshot',
    "inputTokens" INTEGER NOT NULL DEFAULT 0,
    "outputTokens" INTEGER NOT NULL DEFAULT 0,
    "costUsd" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "durationMs" INTEGER,
    "firstTokenMs" INTEGER,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMP(3),

    CONSTRAINT "chat_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "chat_event" (
    "sessionId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "runId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "chat_event_pkey" PRIMARY KEY ("sessionId","seq")
);

-- CreateTable
CREATE TABLE "agent_gateway" (
    "agentId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "inputTokens" INTEGER NOT NULL DEFAULT 0,
    "outputTokens" INTEGER NOT NULL DEFAULT 0,
    "lastUsedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "agent_gateway_pkey" PRIMARY KEY ("agentId")
);

-- CreateIndex
CREATE INDEX "chat_session_agentId_updatedAt_idx" ON "chat_session"("agentId", "updatedAt");

-- CreateIndex
CREATE INDEX "chat_session_projectId_idx" ON "chat_session"("projectId");

-- CreateIndex
CREATE INDEX "chat_run_sessionId_startedAt_idx" ON "chat_run"("sessionId", "startedAt");

-- CreateIndex
CREATE INDEX "chat_run_status_idx" ON "chat_run"("status");

-- CreateIndex
CREATE INDEX "chat_event_runId_idx" ON "chat_event"("runId");

-- AddForeignKey
ALTER TABLE "chat_session" ADD CONSTRAINT "chat_session_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chat_session" ADD CONSTRAINT "chat_session_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chat_run" ADD CONSTRAINT "chat_run_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "chat_session"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chat_event" ADD CONSTRAINT "chat_event_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "chat_session"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_gateway" ADD CONSTRAINT "agent_gateway_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;
