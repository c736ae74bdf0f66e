// The functional tests start Linux processes (sshd, socat, tinyproxy) and check Unix file modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
