-- CreateTable
CREATE TABLE "usage_day" (
    "projectId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "agentName" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "model" TEXT NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "inputTokens" BIGINT NOT NULL DEFAULT 0,
    "outputTokens" BIGINT NOT NULL DEFAULT 0,
    "cacheReadTokens" BIGINT NOT NULL DEFAULT 0,
    "cacheCreationTokens" BIGINT NOT NULL DEFAULT 0,
    "costUsd" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "usage_day_pkey" PRIMARY KEY ("projectId","agentId","day","model")
);

-- CreateTable
CREATE TABLE "budget" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "agentId" TEXT,
    "monthlyCostUsd" DOUBLE PRECISION,
    "monthlyTokens" BIGINT,
    "costReachedMonth" TEXT,
    "tokensReachedMonth" TEXT,
    "updatedById" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "budget_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "usage_day_projectId_day_idx" ON "usage_day"("projectId", "day");

-- CreateIndex
CREATE INDEX "usage_day_agentId_day_idx" ON "usage_day"("agentId", "day");

-- CreateIndex
CREATE UNIQUE INDEX "budget_agentId_key" ON "budget"("agentId");

-- CreateIndex
CREATE INDEX "budget_projectId_idx" ON "budget"("projectId");

-- AddForeignKey
ALTER TABLE "usage_day" ADD CONSTRAINT "usage_day_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "budget" ADD CONSTRAINT "budget_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "budget" ADD CONSTRAINT "budget_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;
