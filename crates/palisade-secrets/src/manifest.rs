//! Values in Kubernetes objects that can hold credentials, scanned with the detector.
