namespace OrderApi;

/// <summary>The body of <c>POST /orders</c>. <see cref="Id"/> is the caller's idempotency key: a new one when absent.</summary>
public sealed record NewOrder(string Customer, decimal Amount, Guid? Id = null);
