import { expect, test } from "./helpers";

// The WASM/JS/CSS of /login is served compressed (docs/design.md), from copies
// made at build time (cargo leptos build --precompress), best encoding first.
test("the bundle is served precompressed: brotli when accepted, gzip otherwise, identical once decoded", async ({ request }) => {
  const html = await (await request.get("/login")).text();
  const assets = [...new Set(html.match(/\/pkg\/[^"')\s]+/g) ?? [])];
  expect(assets.some((a) => a.endsWith(".wasm")), `assets of /login: ${assets}`).toBeTruthy();
  expect(assets.some((a) => a.endsWith(".js"))).toBeTruthy();
  for (const path of assets) {
    const raw = await request.get(path, { headers: { "accept-encoding": "identity" } });
    expect(raw.status()).toBe(200);
    expect(raw.headers()["content-encoding"]).toBeUndefined();
    // Names are not hashed: browsers must revalidate, never keep a stale bundle.
    expect(raw.headers()["cache-control"]).toBe("no-cache");
    for (const encoding of ["br", "gzip"]) {
      const r = await request.get(path, { headers: { "accept-encoding": encoding } });
      expect(r.status()).toBe(200);
      expect(r.headers()["content-encoding"], `${path} as ${encoding}`).toBe(encoding);
      expect(Number(r.headers()["content-length"])).toBeLessThan((await raw.body()).length);
      expect((await r.body()).equals(await raw.body()), `${path} decoded from ${encoding}`).toBeTruthy();
    }
  }
});
