import Link from "next/link";

/** Below an auth form: the way to the other one ("New to Armory? Create an account"). */
export function AuthSwitch({ prompt, href, children }: { prompt: string; href: string; children: React.ReactNode }) {
  return (
    <p className="text-muted-foreground text-center text-sm">
      {prompt}{" "}
      <Link href={href} className="text-foreground font-medium underline-offset-4 hover:underline">
        {children}
      </Link>
    </p>
  );
}
