import type { Metadata } from "next";
import { TokensSettings } from "@/components/trust/tokens-settings";

export const metadata: Metadata = { title: "Machine tokens" };

export default function TokensPage() {
  return <TokensSettings />;
}
