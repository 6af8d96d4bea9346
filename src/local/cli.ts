console.error("tandem cli: not built yet"); process.exit(1);
