// Docker image references, shared by template and agent schemas.

// registry[:port]/path/name[:tag][@sha256:digest], lower-case repository as Docker requires.
export const IMAGE_RE =
  /^[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
