// The typed client lives in packages/client (published as @armory/client); this path stays for
// code that imported it from the repository.
export * from "../../packages/client/src/index";
