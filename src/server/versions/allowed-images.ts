// Which images an agent may be updated to. This is the ONE place version.update asks; trust
// grants (allowed_images globs) plug in here.
import picomatch from "picomatch";
import { DomainError } from "../domain/errors";
import { imageRepository } from "../runtime";

export interface ImagePolicyInput {
  projectId: string;
  agentId: string;
  agentName: string;
  /** The agent's current image. */
  currentImage: string;
  /** The template's image, "default" already resolved to the default agent image tag. */
  templateImage: string;
  /** The image asked for. */
  image: string;
  userId: string | null;
}

/**
 * The globs an agent's image must match. Without grants: any tag of the template's image
 * repository or of the agent's current one (`armory-agent:*`).
 */
export function defaultAllowedImages(input: Pick<ImagePolicyInput, "currentImage" | "templateImage">): string[] {
  return [...new Set([imageRepository(input.templateImage), imageRepository(input.currentImage)])].map((r) => `${r}:*`);
}

export function imageMatches(image: string, globs: string[]): boolean {
  return globs.some((g) => g === image || picomatch.isMatch(image, g, { dot: true }));
}

/** Throws FORBIDDEN (naming the allowed globs) when `image` is not allowed for the agent. */
export async function checkImageAllowed(input: ImagePolicyInput): Promise<string[]> {
  const allowed = defaultAllowedImages(input);
  if (!imageMatches(input.image, allowed)) {
    throw new DomainError(
      "FORBIDDEN",
      `The image ${input.image} is not allowed for agent ${input.agentName}; allowed: ${allowed.join(", ")}.`,
    );
  }
  return allowed;
}
