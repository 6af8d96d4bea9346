console.error("tandem runtime: not built yet"); process.exit(1);
