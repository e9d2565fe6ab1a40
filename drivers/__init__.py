"""Drivers: bytes from devices and file formats into typed frames.

A driver knows a device or a format and nothing about athletes, load or storage;
it never imports :mod:`sensorhub` (see ../shared/DESIGN.md, "Layers").
"""
