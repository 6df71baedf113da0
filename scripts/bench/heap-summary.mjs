// What a V8 heap snapshot holds (the server bench's BENCH_SERVER_HEAP_SNAPSHOT writes them):
//   node --max-old-space-size=8000 scripts/bench/heap-summary.mjs <snapshot> [<earlier snapshot>]
// prints the reachable objects' size by node type and by constructor, the biggest retainers (V8's
// dominator tree over strong edges) and, with an earlier snapshot of the same process, the growth
// by constructor. Options (environment): EXPLAIN=<MB> the path from the root and the biggest
// children of each retainer of at least that size (NODES=<id,...> for given nodes instead; LIMIT,
// 25); NEWROOTS=1 the objects new since the earlier snapshot (by node id), grouped by the first new
// object on their dominator chain; SCRIPTS=1 the script sources held, by package.
import fs from "node:fs";

function load(file) {
  const j = JSON.parse(fs.readFileSync(file, "utf8"));
  const m = j.snapshot.meta;
  const NF = m.node_fields.length, EF = m.edge_fields.length;
  const nTypes = m.node_fields.indexOf("type"), nName = m.node_fields.indexOf("name"), nSize = m.node_fields.indexOf("self_size"), nEC = m.node_fields.indexOf("edge_count"), nId = m.node_fields.indexOf("id");
  const eType = m.edge_fields.indexOf("type"), eName = m.edge_fields.indexOf("name_or_index"), eTo = m.edge_fields.indexOf("to_node");
  const nodeTypes = m.node_types[0], edgeTypes = m.edge_types[0];
  const nodes = j.nodes, edges = j.edges, strings = j.strings;
  const N = nodes.length / NF;
  const firstEdge = new Uint32Array(N + 1);
  for (let i = 0, e = 0; i < N; i++) { firstEdge[i] = e; e += nodes[i * NF + nEC] * EF; firstEdge[i + 1] = e; }
  return { j, NF, EF, nTypes, nName, nSize, nId, eType, eName, eTo, nodeTypes, edgeTypes, nodes, edges, strings, N, firstEdge };
}

function analyse(s) {
  const { NF, EF, nTypes, nName, nSize, eType, eTo, edgeTypes, nodeTypes, nodes, edges, N, firstEdge } = s;
  const { strings } = s;
  const type = (i) => nodeTypes[nodes[i * NF + nTypes]];
  const name = (i) => strings[nodes[i * NF + nName]];
  const size = (i) => nodes[i * NF + nSize];
  const weak = edgeTypes.indexOf("weak"), shortcut = edgeTypes.indexOf("shortcut");
  // Dominators (Cooper-Harvey-Kennedy) over strong edges from root 0.
  const post = new Int32Array(N).fill(-1), order = new Int32Array(N);
  let count = 0;
  const stack = [0], iter = new Uint32Array(N);
  const visited = new Uint8Array(N); visited[0] = 1; iter[0] = firstEdge[0];
  while (stack.length) {
    const v = stack[stack.length - 1];
    let pushed = false;
    while (iter[v] < firstEdge[v + 1]) {
      const e = iter[v]; iter[v] += EF;
      const et = edges[e + eType]; if (et === weak || et === shortcut) continue;
      const w = edges[e + eTo] / NF;
      if (!visited[w]) { visited[w] = 1; iter[w] = firstEdge[w]; stack.push(w); pushed = true; break; }
    }
    if (!pushed) { stack.pop(); post[v] = count; order[count++] = v; }
  }
  // predecessors
  const predCount = new Uint32Array(N + 1);
  for (let v = 0; v < N; v++) if (visited[v]) for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += EF) { const et = edges[e + eType]; if (et === weak || et === shortcut) continue; predCount[edges[e + eTo] / NF]++; }
  const predStart = new Uint32Array(N + 1); for (let i = 0; i < N; i++) predStart[i + 1] = predStart[i] + predCount[i];
  const preds = new Uint32Array(predStart[N]); const fill = predStart.slice(0, N);
  for (let v = 0; v < N; v++) if (visited[v]) for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += EF) { const et = edges[e + eType]; if (et === weak || et === shortcut) continue; const w = edges[e + eTo] / NF; preds[fill[w]++] = v; }
  const idom = new Int32Array(N).fill(-1); idom[0] = 0;
  const intersect = (a, b) => { while (a !== b) { while (post[a] < post[b]) a = idom[a]; while (post[b] < post[a]) b = idom[b]; } return a; };
  let changed = true;
  while (changed) {
    changed = false;
    for (let k = count - 2; k >= 0; k--) {
      const v = order[k]; let nd = -1;
      for (let p = predStart[v]; p < predStart[v + 1]; p++) { const u = preds[p]; if (idom[u] === -1) continue; nd = nd === -1 ? u : intersect(u, nd); }
      if (nd !== idom[v]) { idom[v] = nd; changed = true; }
    }
  }
  const retained = new Float64Array(N);
  for (let k = 0; k < count; k++) { const v = order[k]; retained[v] += size(v); if (v !== 0) retained[idom[v]] += retained[v]; }
  return { type, name, size, idom, retained, visited, post };
}

const mb = (b) => (b / 2 ** 20).toFixed(2);
function byKey(s, a, keyOf) {
  const m = new Map();
  for (let i = 0; i < s.N; i++) { if (!a.visited[i]) continue; const k = keyOf(i); const r = m.get(k) ?? { n: 0, self: 0 }; r.n++; r.self += a.size(i); m.set(k, r); }
  return m;
}
const ctorKey = (a) => (i) => { const t = a.type(i); return t === "object" || t === "closure" || t === "native" ? `${t}:${a.name(i).slice(0, 60)}` : t === "string" || t === "concatenated string" || t === "sliced string" ? "string" : `${t}:${t === "code" || t === "array" || t === "hidden" ? a.name(i).replace(/\d+/g, "#").slice(0, 50) : ""}`; };

const file = process.argv[2], base = process.argv[3];
const s = load(file); const a = analyse(s);
let total = 0; for (let i = 0; i < s.N; i++) if (a.visited[i]) total += a.size(i);
console.log(`== ${file}: ${s.N} nodes, reachable self total ${mb(total)} MB`);
const byType = byKey(s, a, (i) => a.type(i));
console.log("-- self size by node type"); for (const [k, v] of [...byType].sort((x, y) => y[1].self - x[1].self)) console.log(`${mb(v.self).padStart(8)} MB ${String(v.n).padStart(8)}  ${k}`);
const byCtor = byKey(s, a, ctorKey(a));
console.log("-- self size by constructor (top 40)"); for (const [k, v] of [...byCtor].sort((x, y) => y[1].self - x[1].self).slice(0, 40)) console.log(`${mb(v.self).padStart(8)} MB ${String(v.n).padStart(8)}  ${k}`);
// Biggest retainers: nodes with retained >= 1 MB whose idom is smaller-than-self-significant; show top 40 by retained, skipping (GC roots) synthetic
const cand = []; for (let i = 1; i < s.N; i++) if (a.visited[i] && a.retained[i] > 512 * 1024) cand.push(i);
cand.sort((x, y) => a.retained[y] - a.retained[x]);
console.log("-- biggest retained (>=0.5 MB), with dominator chain");
for (const i of cand.slice(0, 60)) {
  const chain = []; let v = a.idom[i]; for (let k = 0; k < 4 && v > 0; k++) { chain.push(`${a.type(v)}:${a.name(v).slice(0, 30)}`); v = a.idom[v]; }
  console.log(`${mb(a.retained[i]).padStart(8)} MB  ${a.type(i)}:${a.name(i).slice(0, 70).replace(/\n/g, " ")}  <= ${chain.join(" <= ")}`);
}
if (base) {
  const sb = load(base); const ab = analyse(sb);
  const bb = byKey(sb, ab, ctorKey(ab));
  const diff = [];
  for (const [k, v] of byCtor) { const o = bb.get(k) ?? { n: 0, self: 0 }; diff.push([k, v.n - o.n, v.self - o.self]); }
  for (const [k, o] of bb) if (!byCtor.has(k)) diff.push([k, -o.n, -o.self]);
  diff.sort((x, y) => y[2] - x[2]);
  let tb = 0; for (let i = 0; i < sb.N; i++) if (ab.visited[i]) tb += ab.size(i);
  console.log(`-- growth vs ${base}: ${mb(total - tb)} MB (top 40 by self size)`);
  for (const [k, dn, ds] of diff.slice(0, 40)) console.log(`${mb(ds).padStart(8)} MB ${String(dn).padStart(8)}  ${k}`);
}
// Explain: EXPLAIN=<min MB> prints, for the distinct big retainers, a path from the root (edge names) and top children.
if (process.env.EXPLAIN) {
  const { NF, EF, eType, eName, eTo, edges, strings, firstEdge, edgeTypes } = s;
  const weak = edgeTypes.indexOf("weak"), shortcut = edgeTypes.indexOf("shortcut");
  const parent = new Int32Array(s.N).fill(-1), pedge = new Int32Array(s.N).fill(-1);
  const q = [0]; parent[0] = 0;
  for (let h = 0; h < q.length; h++) { const v = q[h]; for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += EF) { const et = edges[e + eType]; if (et === weak || et === shortcut) continue; const w = edges[e + eTo] / NF; if (parent[w] === -1) { parent[w] = v; pedge[w] = e; q.push(w); } } }
  const en = (e) => { const t = edgeTypes[edges[e + eType]]; return t === "element" || t === "hidden" ? `[${edges[e + eName]}]` : strings[edges[e + eName]]; };
  const min = Number(process.env.EXPLAIN) * 2 ** 20;
  const targets = (process.env.NODES ? process.env.NODES.split(",").map(Number) : cand.filter((i) => a.retained[i] >= min && a.retained[a.idom[i]] < a.retained[i] * 1.3 + 1e9)).slice(0, Number(process.env.LIMIT ?? 25));
  for (const i of targets) {
    const path = []; let v = i; for (let k = 0; k < 14 && v > 0; k++) { path.push(`${en(pedge[v])}(${a.type(parent[v])}:${a.name(parent[v]).slice(0, 25).replace(/\n/g, " ")})`); v = parent[v]; }
    console.log(`\n## #${i} ${mb(a.retained[i])} MB ${a.type(i)}:${a.name(i).slice(0, 80).replace(/\n/g, " ")}\n   path: ${path.reverse().join(" -> ")}`);
    const kids = [];
    for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += EF) { const w = edges[e + eTo] / NF; if (a.idom[w] === i) kids.push([w, en(e)]); }
    kids.sort((x, y) => a.retained[y[0]] - a.retained[x[0]]);
    for (const [w, n] of kids.slice(0, 8)) console.log(`     ${mb(a.retained[w]).padStart(7)} MB  .${String(n).slice(0, 40)} -> ${a.type(w)}:${a.name(w).slice(0, 60).replace(/\n/g, " ")} #${w}`);
    if (kids.length > 8) console.log(`     ... ${kids.length} children`);
  }
}
// NEWROOTS=1 with a baseline: objects new since the baseline (by id), grouped by the first new object on their dominator chain.
if (process.env.NEWROOTS && base) {
  const sb = load(base); const old = new Set(); for (let i = 0; i < sb.N; i++) old.add(sb.nodes[i * sb.NF + sb.nId]);
  const id = (i) => s.nodes[i * s.NF + s.nId];
  const groups = new Map();
  let newTotal = 0;
  for (let i = 1; i < s.N; i++) {
    if (!a.visited[i] || old.has(id(i))) continue;
    newTotal += a.size(i);
    const d = a.idom[i];
    if (d < 0 || (d > 0 && !old.has(id(d)))) continue; // not a top
    // group key: dominator (old) type:name + this node's type:name
    const k = `${a.type(d)}:${a.name(d).slice(0, 40)} -> ${a.type(i)}:${a.name(i).slice(0, 40)}`.replace(/\n/g, " ");
    const g = groups.get(k) ?? { n: 0, r: 0, ex: i }; g.n++; g.r += a.retained[i]; groups.set(k, g);
  }
  console.log(`-- new objects: ${mb(newTotal)} MB; grouped by (old dominator -> first new object), top 40 by retained`);
  for (const [k, g] of [...groups].sort((x, y) => y[1].r - x[1].r).slice(0, 40)) console.log(`${mb(g.r).padStart(8)} MB ${String(g.n).padStart(6)}  ${k}  e.g. #${g.ex}`);
}
if (process.env.SCRIPTS) {
  // Script sources: code nodes named by file with a .source edge -> sum by file kind
  const { NF, EF, eName, eTo, edges, strings, firstEdge } = s;
  const rows = []; let tot = 0;
  for (let i = 0; i < s.N; i++) {
    if (a.type(i) !== "code" || !/^(file:|\/|node:)/.test(a.name(i))) continue;
    for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += EF) if (strings[edges[e + eName]] === "source") { const w = edges[e + eTo] / NF; rows.push([a.name(i), a.size(w)]); tot += a.size(w); }
  }
  const by = new Map(); for (const [n, z] of rows) { const k = n.replace(/^file:\/\//, "").replace(/.*\/node_modules\/((@[^/]+\/)?[^/]+).*/, "nm:$1").replace(/.*\/\.next\/server\/.*/, ".next/server chunks").replace(/^node:.*/, "node: internals"); const r = by.get(k) ?? [0, 0]; r[0]++; r[1] += z; by.set(k, r); }
  console.log(`-- script sources held: ${rows.length} scripts, ${mb(tot)} MB`);
  for (const [k, [n, z]] of [...by].sort((x, y) => y[1][1] - x[1][1]).slice(0, 30)) console.log(`${mb(z).padStart(8)} MB ${String(n).padStart(5)}  ${k}`);
}
