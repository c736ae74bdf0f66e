using Microsoft.AspNetCore.Http.HttpResults;

namespace Porthole.Server.WebProxy;

/// <summary>
/// A tunnel connection for a web session could not be made; carries the problem the user is shown (device offline,
/// target refused, certificate changed, …) through the HTTP handler back to the proxy.
/// </summary>
public sealed class WebProxyException(ProblemHttpResult problem) : Exception(problem.ProblemDetails.Detail)
{
    public ProblemHttpResult Problem { get; } = problem;
}
