"""Dagster definitions by domain; instruct_assets.definitions loads every module below this folder."""
