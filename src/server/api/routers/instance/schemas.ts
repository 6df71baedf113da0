import { z } from "zod";

export const signUpInfoOutput = z.object({
  /** ARMORY_SIGN_UP: invite | open | closed. */
  mode: z.enum(["invite", "open", "closed"]),
  /** No account exists yet: the next sign-up becomes the instance admin (whatever the mode). */
  firstAccount: z.boolean(),
});
