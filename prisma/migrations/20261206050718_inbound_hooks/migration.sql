-- CreateEnum
CREATE TYPE "InboundHookVerify" AS ENUM ('github', 'hmac', 'token');

-- CreateEnum
CREATE TYPE "InboundHookSession" AS ENUM ('new', 'named');

-- CreateEnum
CREATE TYPE "HookDeliveryStatus" AS ENUM ('accepted', 'rejected', 'rate_limited', 'failed');

-- CreateTable
CREATE TABLE "inbound_hook" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "verify" "InboundHookVerify" NOT NULL,
    "secretCiphertext" TEXT NOT NULL,
    "secretKeyId" TEXT NOT NULL,
    "template" TEXT NOT NULL,
    "session" "InboundHookSession" NOT NULL DEFAULT 'new',
    "sessionName" TEXT,
    "sessionId" TEXT,
    "rateLimitPerMinute" INTEGER NOT NULL DEFAULT 30,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "inbound_hook_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "hook_delivery" (
    "id" TEXT NOT NULL,
    "hookId" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "event" TEXT,
    "payload" JSONB,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "status" "HookDeliveryStatus" NOT NULL,
    "httpStatus" INTEGER NOT NULL,
    "error" TEXT,
    "message" TEXT,
    "sessionId" TEXT,
    "runId" TEXT,
    "replayOf" TEXT,

    CONSTRAINT "hook_delivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "inbound_hook_projectId_idx" ON "inbound_hook"("projectId");

-- CreateIndex
CREATE UNIQUE INDEX "inbound_hook_agentId_name_key" ON "inbound_hook"("agentId", "name");

-- CreateIndex
CREATE INDEX "hook_delivery_hookId_receivedAt_idx" ON "hook_delivery"("hookId", "receivedAt");

-- AddForeignKey
ALTER TABLE "inbound_hook" ADD CONSTRAINT "inbound_hook_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "hook_delivery" ADD CONSTRAINT "hook_delivery_hookId_fkey" FOREIGN KEY ("hookId") REFERENCES "inbound_hook"("id") ON DELETE CASCADE ON UPDATE CASCADE;
