"use client";

import * as React from "react";
import { Tabs as TabsPrimitive } from "radix-ui";

import { ScrollAffordance } from "@/components/ui/scroll-row";
import { cn } from "@/lib/utils";

function Tabs({ className, ...props }: React.ComponentProps<typeof TabsPrimitive.Root>) {
  return <TabsPrimitive.Root data-slot="tabs" className={cn("flex flex-col gap-2", className)} {...props} />;
}

/**
 * The row of tabs. When it does not fit (a phone), it scrolls sideways with a fade and a scroll
 * button at each edge that has more; arrow keys move along the tabs and scroll them into view.
 */
function TabsList({ className, onFocus, ...props }: React.ComponentProps<typeof TabsPrimitive.List>) {
  const scroller = React.useRef<HTMLDivElement>(null);
  const label = typeof props["aria-label"] === "string" ? `${props["aria-label"]} tabs` : "tabs";
  return (
    <div data-slot="tabs-list-frame" className="relative flex max-w-full min-w-0">
      <TabsPrimitive.List
        ref={scroller}
        data-slot="tabs-list"
        className={cn(
          "bg-muted text-muted-foreground inline-flex h-9 w-fit max-w-full items-center justify-center overflow-x-auto rounded-lg p-[3px] [scrollbar-width:none] [&::-webkit-scrollbar]:hidden",
          className,
        )}
        {...props}
        onFocus={(e) => {
          onFocus?.(e);
          // A tab reached by the keyboard (arrows, Home, End) is brought fully into the row's view.
          if (e.target instanceof HTMLElement && e.target.getAttribute("role") === "tab") e.target.scrollIntoView({ block: "nearest", inline: "nearest" });
        }}
      />
      <ScrollAffordance scroller={scroller} label={label} className="from-muted rounded-lg" />
    </div>
  );
}

function TabsTrigger({ className, ...props }: React.ComponentProps<typeof TabsPrimitive.Trigger>) {
  return (
    <TabsPrimitive.Trigger
      data-slot="tabs-trigger"
      className={cn(
        "data-[state=active]:bg-background dark:data-[state=active]:text-foreground focus-visible:border-ring focus-visible:ring-ring/50 focus-visible:outline-ring dark:data-[state=active]:border-input dark:data-[state=active]:bg-input/30 text-foreground dark:text-muted-foreground inline-flex h-[calc(100%-1px)] flex-1 items-center justify-center gap-1.5 rounded-md border border-transparent px-2 py-1 text-sm font-medium whitespace-nowrap transition-[color,box-shadow] focus-visible:ring-[3px] focus-visible:outline-1 disabled:pointer-events-none disabled:opacity-50 data-[state=active]:shadow-sm [&_svg]:pointer-events-none [&_svg]:shrink-0 [&_svg:not([class*='size-'])]:size-4",
        className,
      )}
      {...props}
    />
  );
}

function TabsContent({ className, ...props }: React.ComponentProps<typeof TabsPrimitive.Content>) {
  return <TabsPrimitive.Content data-slot="tabs-content" className={cn("flex-1 outline-none", className)} {...props} />;
}

export { Tabs, TabsList, TabsTrigger, TabsContent };
