using System.Net.Http.Json;
using Porthole.Agent.State;
using Porthole.Protocol.Api;
using Porthole.Tunnel.Transport;

namespace Porthole.Agent.Enrolment;

/// <summary>Exchanges a one-time enrolment token for the device credential and stores it.</summary>
public static class Enroller
{
    public static async Task<AgentState> EnrolAsync(Uri server, string token, ServerTrust trust, bool remoteAccessDisabled, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(trust.CreateHandler()) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
        var request = new EnrolRequest(token.Trim(), AgentInfo.Version, System.Net.Dns.GetHostName());
        using var response = await http.PostAsJsonAsync("/api/v1/agent/enrol", request, ApiJsonContext.Default.EnrolRequest, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await ReadProblemAsync(response, cancellationToken).ConfigureAwait(false);
            throw new EnrolmentException(problem?.Detail ?? $"the server answered HTTP {(int)response.StatusCode}");
        }

        var enrolled = await response.Content.ReadFromJsonAsync(ApiJsonContext.Default.EnrolResponse, cancellationToken).ConfigureAwait(false)
            ?? throw new EnrolmentException("the server's answer was empty");
        return new AgentState(
            server.GetLeftPart(UriPartial.Authority),
            enrolled.DeviceId,
            enrolled.DeviceName,
            enrolled.Credential,
            trust.Fingerprint,
            trust.CaCertificatePath is null ? null : Path.GetFullPath(trust.CaCertificatePath),
            trust.Insecure,
            remoteAccessDisabled);
    }

    private static async Task<ProblemBody?> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(ApiJsonContext.Default.ProblemBody, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}

/// <summary>Enrolment failed for a reason the server or the network gave.</summary>
public sealed class EnrolmentException(string message) : Exception(message);
