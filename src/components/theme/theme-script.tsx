// Applies the saved theme before the first paint. Rendered in <head> by the root layout.
const script = `(function(){try{var p=localStorage.getItem("armory-theme");var d=p==="dark"||(p!=="light"&&window.matchMedia("(prefers-color-scheme: dark)").matches);document.documentElement.classList.toggle("dark",d);}catch(e){}})();`;

export function ThemeScript() {
  return <script dangerouslySetInnerHTML={{ __html: script }} />;
}
