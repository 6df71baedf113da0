import { describe, expect, it } from "vitest";
import { toTrpcError } from "./errors";

describe("toTrpcError: a lost database connection is a 503, not a 500", () => {
  it.each([
    ["a terminated connection", new Error("Connection terminated unexpectedly")],
    // pg's answer to a query on a pooled client whose connection was killed, before the pool dropped it.
    ["a client whose connection errored", new Error("Client has encountered a connection error and is not queryable")],
    ["an administrator's termination (57P01)", Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" })],
  ])("%s", (_name, err) => {
    expect(toTrpcError(err).code).toBe("SERVICE_UNAVAILABLE");
  });

  it("leaves other errors a 500", () => {
    expect(toTrpcError(new Error("something else")).code).toBe("INTERNAL_SERVER_ERROR");
  });
});
