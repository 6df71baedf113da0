-- CreateEnum
CREATE TYPE "ScheduleSessionMode" AS ENUM ('new', 'named');

-- CreateEnum
CREATE TYPE "ScheduleCatchUp" AS ENUM ('once', 'skip');

-- CreateEnum
CREATE TYPE "ScheduleRunStatus" AS ENUM ('running', 'completed', 'failed', 'interrupted', 'skipped');

-- CreateTable
CREATE TABLE "schedule" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "cron" TEXT NOT NULL,
    "timeZone" TEXT NOT NULL DEFAULT 'UTC',
    "message" TEXT NOT NULL,
    "session" "ScheduleSessionMode" NOT NULL DEFAULT 'new',
    "sessionName" TEXT,
    "sessionId" TEXT,
    "catchUp" "ScheduleCatchUp" NOT NULL DEFAULT 'once',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "nextRunAt" TIMESTAMP(3),
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "schedule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "schedule_run" (
    "id" TEXT NOT NULL,
    "scheduleId" TEXT NOT NULL,
    "scheduledFor" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMP(3),
    "status" "ScheduleRunStatus" NOT NULL DEFAULT 'running',
    "reason" TEXT,
    "sessionId" TEXT,
    "runId" TEXT,
    "durationMs" INTEGER,
    "costUsd" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "manual" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "schedule_run_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "schedule_projectId_idx" ON "schedule"("projectId");

-- CreateIndex
CREATE INDEX "schedule_agentId_idx" ON "schedule"("agentId");

-- CreateIndex
CREATE INDEX "schedule_enabled_nextRunAt_idx" ON "schedule"("enabled", "nextRunAt");

-- CreateIndex
CREATE INDEX "schedule_run_scheduleId_startedAt_idx" ON "schedule_run"("scheduleId", "startedAt");

-- CreateIndex
CREATE INDEX "schedule_run_status_idx" ON "schedule_run"("status");

-- CreateIndex
CREATE UNIQUE INDEX "schedule_run_scheduleId_scheduledFor_key" ON "schedule_run"("scheduleId", "scheduledFor");

-- AddForeignKey
ALTER TABLE "schedule" ADD CONSTRAINT "schedule_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "schedule" ADD CONSTRAINT "schedule_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "schedule" ADD CONSTRAINT "schedule_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "schedule_run" ADD CONSTRAINT "schedule_run_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;
