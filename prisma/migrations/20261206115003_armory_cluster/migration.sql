-- CreateTable
CREATE TABLE "armory_instance" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeatAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "armory_instance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "daemon_presence" (
    "agentId" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "daemonId" TEXT NOT NULL,
    "hello" JSONB NOT NULL,
    "connectedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "daemon_presence_pkey" PRIMARY KEY ("agentId")
);

-- CreateTable
CREATE TABLE "cluster_message" (
    "id" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cluster_message_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "armory_instance_heartbeatAt_idx" ON "armory_instance"("heartbeatAt");

-- CreateIndex
CREATE INDEX "daemon_presence_instanceId_idx" ON "daemon_presence"("instanceId");

-- CreateIndex
CREATE INDEX "cluster_message_createdAt_idx" ON "cluster_message"("createdAt");

-- AddForeignKey
ALTER TABLE "daemon_presence" ADD CONSTRAINT "daemon_presence_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "armory_instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;
