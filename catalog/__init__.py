"""Catalog: granule colours, tile products, colour recipes and the images products show."""
