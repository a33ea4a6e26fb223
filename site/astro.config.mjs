// Static portal: every page is prebuilt HTML, and Solid islands hydrate only
// where a page needs interaction. The local runtime serves site/dist.
import solid from "@astrojs/solid-js";
import { defineConfig } from "astro/config";

// Astro records usage telemetry over the network after it loads this file;
// the build must open no connection off the machine.
process.env.ASTRO_TELEMETRY_DISABLED ??= "1";

export default defineConfig({
	output: "static",
	integrations: [solid()],
	trailingSlash: "ignore",
	build: { format: "directory" },
	devToolbar: { enabled: false },
	vite: {
		// The site formats money with the project's shared/money.ts.
		server: { fs: { allow: [".."] } },
	},
});
