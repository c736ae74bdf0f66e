using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Porthole.Server.Identity;
using Porthole.Server.Tests.Support;

namespace Porthole.Server.Tests;

/// <summary>No route can be unprotected by accident: every one declares a known policy or is deliberately anonymous.</summary>
public sealed class RouteCatalogTests(Scenario scenario) : IClassFixture<Scenario>
{
    /// <summary>The only routes anyone may call without a token. Adding one means adding it here, on purpose.</summary>
    private static readonly HashSet<string> AnonymousRoutes =
    [
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/password",
        "POST /api/v1/agent/enrol",
        "GET /api/v1/openapi.json",
        "GET /healthz",
        "GET /favicon.ico",
        "ANY /login",
        "ANY /change-password",
        "ANY /access-denied",
    ];

    public static IEnumerable<(string Route, RouteEndpoint Endpoint)> Routes(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["ANY"])
                .Select(method => ($"{method} {Normalize(e.RoutePattern.RawText)}", e)));

    public static string Normalize(string? pattern) => "/" + (pattern ?? "").Trim('/');

    [Fact]
    public void EveryRoute_DeclaresAKnownPolicy_OrIsOnTheAnonymousList()
    {
        string[] known = [.. Permissions.All, Permissions.Authenticated, Permissions.Agent];
        var problems = new List<string>();
        var routes = Routes(scenario.Server.App.Services).ToList();
        Assert.True(routes.Count > 30, "the endpoint data source looks empty: " + routes.Count);

        foreach (var (route, endpoint) in routes)
        {
            var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            if (anonymous != AnonymousRoutes.Contains(route))
            {
                problems.Add(anonymous ? $"{route} allows anonymous access but is not on the list" : $"{route} is on the anonymous list but requires a token");
            }
            else if (!anonymous && (policies.Count == 0 || policies.Any(p => p is null || !known.Contains(p))))
            {
                problems.Add($"{route} declares no known permission policy ({string.Join(", ", policies.Select(p => p ?? "(none)"))})");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal(AnonymousRoutes.Order(), routes.Select(r => r.Route).Where(AnonymousRoutes.Contains).Distinct().Order());
    }
}
