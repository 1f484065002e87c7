"""Monitoring: does new data still look like the data the champion was trained on?"""
