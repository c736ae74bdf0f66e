namespace Porthole.Protocol.Api;

/// <summary>
/// Machine-readable <c>code</c> extension of the API's problem details, so clients can react without parsing prose.
/// </summary>
public static class ProblemCodes
{
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string Validation = "validation";
    public const string Conflict = "conflict";
    public const string DeviceNotFound = "device-not-found";
    public const string EndpointNotFound = "endpoint-not-found";
    public const string SessionNotFound = "session-not-found";
    public const string DeviceOffline = "device-offline";
    public const string RemoteAccessDisabled = "remote-access-disabled";
    public const string TargetRefused = "target-refused";
    public const string TargetUnreachable = "target-unreachable";
    public const string TargetTimeout = "target-timeout";
    public const string TargetDenied = "target-denied";
    public const string AgentTimeout = "agent-timeout";
    public const string EnrolmentInvalid = "enrolment-invalid";
    public const string PasswordChangeRequired = "password-change-required";
    public const string LockedOut = "locked-out";
    public const string CredentialRequired = "credential-required";
    public const string SessionLimit = "session-limit";
    public const string NotWebEndpoint = "not-web-endpoint";
    public const string TlsCertificateChanged = "tls-certificate-changed";
    public const string WebSessionNotFound = "web-session-not-found";
    public const string ShuttingDown = "server-shutting-down";
    public const string StorageUnavailable = "storage-unavailable";
    public const string StreamsDisabled = "streams-disabled";
}
