import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { ARMORY_ICON_DATA_URL } from "@/components/brand/wordmark";
import { ThemeScript } from "@/components/theme/theme-script";
import { Toaster } from "@/components/ui/sonner";
import { TRPCReactProvider } from "@/lib/trpc/client";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Armory", template: "%s · Armory" },
  description: "Self-hosted control plane for AI coding agents.",
  applicationName: "Armory",
  icons: { icon: ARMORY_ICON_DATA_URL },
};

export const viewport: Viewport = {
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#ffffff" },
    { media: "(prefers-color-scheme: dark)", color: "#0a0a0a" },
  ],
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <ThemeScript />
      </head>
      <body className="min-h-dvh font-sans">
        <TRPCReactProvider>
          {children}
          <Toaster position="bottom-right" closeButton />
        </TRPCReactProvider>
      </body>
    </html>
  );
}
