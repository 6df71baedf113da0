// provider.*: the model providers templates may name and the gateway forwards to. Any signed-in
// caller lists them (a template must pick one; nothing here is secret); only the instance admin
// registers, changes, confirms and deletes them.
import * as providers from "../../../providers/service";
import { adminProcedure, authedProcedure, router } from "../../trpc";
import {
  providerCreateInput,
  providerDeleteOutput,
  providerGetInput,
  providerListOutput,
  providerMutationInput,
  providerOutput,
  providerUpdateInput,
} from "./schemas";

/** Which templates use a provider is the admin's to see (other projects' template names). */
const seesUsage = (ctx: { user: { isAdmin?: boolean | null }; token: unknown }) => !!ctx.user.isAdmin && !ctx.token;

export const providerRouter = router({
  /** The built-in entry (Armory's own upstream, "armory") first, then registered providers by name. */
  list: authedProcedure
    .output(providerListOutput)
    .query(({ ctx }) => providers.listProviders(ctx.services.db.prisma, ctx.services.config, { admin: seesUsage(ctx) })),

  get: authedProcedure
    .input(providerGetInput)
    .output(providerOutput)
    .query(({ ctx, input }) =>
      providers.getProvider(ctx.services.db.prisma, ctx.services.config, input.providerId, { admin: seesUsage(ctx) }),
    ),

  create: adminProcedure
    .input(providerCreateInput)
    .output(providerOutput)
    .mutation(async ({ ctx, input }) => {
      const view = await providers.createProvider(ctx.services.db.prisma, input, ctx.user.id);
      ctx.services.gateway.forgetRoutes();
      return view;
    }),

  update: adminProcedure
    .input(providerUpdateInput)
    .output(providerOutput)
    .mutation(async ({ ctx, input }) => {
      const { providerId, ...patch } = input;
      const view = await providers.updateProvider(ctx.services.db.prisma, providerId, patch);
      ctx.services.gateway.forgetRoutes();
      return view;
    }),

  /** Confirms a provider migrated from a template's free-form URL: the gateway forwards to it from now on. */
  confirm: adminProcedure
    .input(providerMutationInput)
    .output(providerOutput)
    .mutation(async ({ ctx, input }) => {
      const view = await providers.confirmProvider(ctx.services.db.prisma, input.providerId);
      ctx.services.gateway.forgetRoutes();
      return view;
    }),

  /** Deletes a provider no template uses (409 naming the templates otherwise). */
  delete: adminProcedure
    .input(providerMutationInput)
    .output(providerDeleteOutput)
    .mutation(async ({ ctx, input }) => {
      const out = await providers.deleteProvider(ctx.services.db.prisma, input.providerId);
      ctx.services.gateway.forgetRoutes();
      return out;
    }),
});
