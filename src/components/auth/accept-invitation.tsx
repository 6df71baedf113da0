"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { FormError } from "@/components/auth/form-error";
import { InvitationNotice, type InvitationView } from "@/components/auth/sign-up-notices";
import { SubmitButton } from "@/components/forms/submit-button";
import { useTRPC } from "@/lib/trpc/client";

/** A signed-in person joins the invited project (invitation.accept). */
export function AcceptInvitation({ token, invitation }: { token: string; invitation: InvitationView }) {
  const trpc = useTRPC();
  const router = useRouter();
  const accept = useMutation(
    trpc.invitation.accept.mutationOptions({
      onSuccess: (joined) => {
        router.replace(`/projects/${joined.projectId}`);
        router.refresh();
      },
    }),
  );
  return (
    <form
      className="flex flex-col gap-4"
      aria-label="Join project"
      onSubmit={(e) => {
        e.preventDefault();
        accept.mutate({ token });
      }}
    >
      <InvitationNotice kind="valid" invitation={invitation} />
      <FormError message={accept.error?.message ?? null} />
      <SubmitButton className="w-full" pending={accept.isPending || accept.isSuccess} pendingLabel="Joining…">
        Join {invitation.projectName}
      </SubmitButton>
    </form>
  );
}
