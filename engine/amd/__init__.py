"""Our own streaming answering-machine detector (issue 17): pure decision logic over 20 ms
frames of 8 kHz audio. ``detector.StreamingDetector`` is the entry point; the audio reaches
it from the call's media tap, which lives with the calls, not here."""
