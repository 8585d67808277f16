// Wait until the server answers its health check (it is started just before).
export default async function globalSetup() {
  const url = (process.env.BASE_URL ?? "http://127.0.0.1:3100") + "/healthz";
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`server at ${url} did not come up`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
