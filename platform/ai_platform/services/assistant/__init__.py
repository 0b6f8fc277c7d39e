"""Multi-modal assistant: image analysis and text chat over the shared conversation tables."""
