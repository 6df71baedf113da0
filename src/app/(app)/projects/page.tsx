import { redirect } from "next/navigation";

// The projects list lives at the root.
export default function ProjectsIndexPage() {
  redirect("/");
}
