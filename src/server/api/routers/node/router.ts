// node.*: the machines agents run on (a Docker Swarm's nodes, or the one engine), for the instance
// admin's Nodes page: list them, drain one (no new agents there; Swarm moves what can move) and
// make it active again.
import { nodeAvailabilityOutput, nodeIdInput, nodeListOutput } from "../../../../contracts/nodes";
import * as nodes from "../../../nodes/service";
import { adminProcedure, router } from "../../trpc";

export const nodeRouter = router({
  list: adminProcedure.output(nodeListOutput).query(({ ctx }) => nodes.listNodes(ctx.services)),

  /** Availability drain; agents pinned to the node by their local volumes stay (and stop): the result names them. */
  drain: adminProcedure
    .input(nodeIdInput)
    .output(nodeAvailabilityOutput)
    .mutation(({ ctx, input }) => nodes.setAvailability(ctx.services, input.nodeId, "drain")),

  activate: adminProcedure
    .input(nodeIdInput)
    .output(nodeAvailabilityOutput)
    .mutation(({ ctx, input }) => nodes.setAvailability(ctx.services, input.nodeId, "active")),
});
