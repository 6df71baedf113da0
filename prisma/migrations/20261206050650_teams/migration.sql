-- CreateEnum
CREATE TYPE "TeamRouter" AS ENUM ('keyword', 'llm', 'hybrid');

-- CreateEnum
CREATE TYPE "TeamSource" AS ENUM ('ui', 'yaml');

-- CreateEnum
CREATE TYPE "TeamRouteMethod" AS ENUM ('keyword', 'llm', 'fallback');

-- CreateTable
CREATE TABLE "team" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "router" "TeamRouter" NOT NULL DEFAULT 'keyword',
    "model" TEXT NOT NULL,
    "fallbackAgentId" TEXT,
    "source" "TeamSource" NOT NULL DEFAULT 'ui',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "team_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "team_member" (
    "teamId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "keywords" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "order" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "team_member_pkey" PRIMARY KEY ("teamId","agentId")
);

-- CreateTable
CREATE TABLE "team_message" (
    "id" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "method" "TeamRouteMethod" NOT NULL,
    "reason" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "team_message_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "team_projectId_name_key" ON "team"("projectId", "name");

-- CreateIndex
CREATE INDEX "team_message_teamId_createdAt_idx" ON "team_message"("teamId", "createdAt");

-- AddForeignKey
ALTER TABLE "team" ADD CONSTRAINT "team_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "team" ADD CONSTRAINT "team_fallbackAgentId_fkey" FOREIGN KEY ("fallbackAgentId") REFERENCES "agent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "team_member" ADD CONSTRAINT "team_member_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "team_member" ADD CONSTRAINT "team_member_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "team_message" ADD CONSTRAINT "team_message_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "team"("id") ON DELETE CASCADE ON UPDATE CASCADE;
