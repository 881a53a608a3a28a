"""Signing in, out, and the users: `/api/v1/auth/*` and `/api/v1/users`.

The token endpoint is OAuth2's (RFC 6749): `grant_type=password` with a user's
email and password, or `grant_type=refresh_token` with a refresh token, which is
used once and replaced (a token presented twice revokes its whole family: the
sign-in it descends from, successors included). Its errors are OAuth2's too
(`{"error": "invalid_grant", ...}`), beside the service's usual `detail`.
Responses about the caller (`/users/me`) or about accounts are never cached.
"""

from datetime import UTC, datetime
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..api import API_V1
from ..api.deps import Id, PageDep, services_of
from ..core.error_body import described, error_body
from ..models.users import Me, UserCreate, UserRead, UserUpdate
from .access import SignedIn, Superuser
from .throttle import TOO_MANY_FAILURES
from .users import Account, EmailTaken, Users

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def never_stored(response: Response) -> None:
    """Tokens and accounts are the caller's alone: no cache on the way may keep them."""
    response.headers.update(NO_STORE)


router = APIRouter(prefix=API_V1, dependencies=[Depends(never_stored)])
USER_NOT_FOUND = "User not found"
# The only kind of token the endpoint issues (RFC 6750).
BEARER: Final = "bearer"


class TokenRequest(BaseModel):
    """The form of the token endpoint (`application/x-www-form-urlencoded`)."""

    # `password` or `refresh_token`; another is OAuth2's `unsupported_grant_type`.
    grant_type: str
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    # Space-separated; empty: every scope the user holds (or the refresh token carried).
    scope: str = ""


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    refresh_token: str
    scope: str


class OAuthError(BaseModel):
    """RFC 6749's error, with the service's usual body beside it."""

    error: str
    error_description: str
    detail: str
    request_id: str | None


class LogoutRequest(BaseModel):
    refresh_token: str = Field(min_length=1)


def oauth_error(error: str, description: str) -> JSONResponse:
    body = {"error": error, "error_description": description, **error_body(description)}
    return JSONResponse(body, status.HTTP_400_BAD_REQUEST, headers=NO_STORE)


OAUTH_ERRORS: dict[int | str, dict[str, object]] = {
    status.HTTP_400_BAD_REQUEST: {"model": OAuthError, "description": "OAuth2 error"},
    **described(status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY_FAILURES),
}


@router.post("/auth/token", tags=["auth"], responses=OAUTH_ERRORS)
async def token(request: Request, form: Annotated[TokenRequest, Form()]) -> Response:
    """Sign in with a password, or trade a refresh token for new tokens."""
    if form.grant_type == "password":
        return await with_password(request, form)
    if form.grant_type == "refresh_token":
        return await with_refresh_token(request, form)
    return oauth_error("unsupported_grant_type", "grant_type is password or refresh_token")


async def with_password(request: Request, form: TokenRequest) -> Response:
    auth = services_of(request).auth
    if not form.username or form.password is None:
        return oauth_error("invalid_request", "username and password are required")
    # The address uvicorn settled on (behind FORWARDED_ALLOW_IPS' proxies, theirs).
    address = request.client.host if request.client else "unknown"
    account_key = form.username.casefold()
    await auth.throttle.check(account_key, address)
    account = await auth.users.by_email(form.username)
    valid, new_hash = await auth.passwords.verify(
        form.password, None if account is None else account.password_hash
    )
    if account is None or not valid or not account.is_active:
        await auth.throttle.failed(account_key, address)
        return oauth_error("invalid_grant", "Incorrect email or password")
    await auth.throttle.succeeded(account_key)
    if new_hash is not None:
        await auth.users.rehashed(account, new_hash)
    scopes = granted(account, form.scope.split(), account.scopes)
    if scopes is None:
        return oauth_error("invalid_scope", "A scope asked for is not the user's")
    return await issued(auth.users, request, account, scopes, family=None)


async def with_refresh_token(request: Request, form: TokenRequest) -> Response:
    users = services_of(request).auth.users
    if not form.refresh_token:
        return oauth_error("invalid_request", "refresh_token is required")
    session = await users.session(form.refresh_token)
    if session is None or session.revoked or session.expires_at <= datetime.now(UTC):
        return oauth_error("invalid_grant", "The refresh token is not valid")
    if session.used or not await users.use(session):
        # Presented twice: one of the two presenters stole it. End the sign-in for both.
        await users.end(session.family)
        return oauth_error("invalid_grant", "The refresh token was already used")
    account = await users.by_id(session.user_id)
    if account is None or not account.is_active:
        await users.end(session.family)
        return oauth_error("invalid_grant", "The refresh token is not valid")
    scopes = granted(account, form.scope.split(), session.scopes)
    if scopes is None:
        return oauth_error("invalid_scope", "A scope asked for was not granted")
    return await issued(users, request, account, scopes, family=session.family)


def granted(account: Account, asked: list[str], allowed: list[str]) -> list[str] | None:
    """The scopes asked for (all that are allowed, if none), or None if one is not allowed."""
    if not asked:
        return allowed
    if account.is_superuser or set(asked) <= set(allowed):
        return asked
    return None


async def issued(
    users: Users, request: Request, account: Account, scopes: list[str], family: str | None
) -> Response:
    tokens = services_of(request).auth.tokens
    access_token, lifetime = tokens.issue(account.id, scopes, account.is_superuser)
    refresh_token = await users.start_session(account, scopes, family)
    body = TokenResponse(
        access_token=access_token,
        token_type=BEARER,
        expires_in=lifetime,
        refresh_token=refresh_token,
        scope=" ".join(scopes),
    )
    return Response(body.model_dump_json(), media_type="application/json", headers=NO_STORE)


@router.post("/auth/logout", tags=["auth"], status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, form: Annotated[LogoutRequest, Form()]) -> None:
    """End the sign-in a refresh token belongs to (an unknown token changes nothing)."""
    users = services_of(request).auth.users
    session = await users.session(form.refresh_token)
    if session is not None:
        await users.end(session.family)


@router.get("/users/me", tags=["users"], response_model=Me)
async def me(request: Request, principal: SignedIn) -> Me:
    """Who the token speaks for, and their account when it is a local one."""
    account = None
    if principal.subject.startswith("user:"):
        account = await services_of(request).auth.users.by_id(int(principal.subject[5:]))
    return Me(
        subject=principal.subject,
        scopes=sorted(principal.scopes),
        superuser=principal.superuser,
        user=None if account is None else account.read(),
    )


@router.get("/users", tags=["users"])
async def list_users(request: Request, _: Superuser, page: PageDep) -> list[UserRead]:
    accounts = await services_of(request).auth.users.page(page.limit, page.offset)
    return [account.read() for account in accounts]


@router.post(
    "/users",
    tags=["users"],
    status_code=status.HTTP_201_CREATED,
    responses=described(status.HTTP_409_CONFLICT, "A user with this email exists"),
)
async def create_user(request: Request, _: Superuser, data: UserCreate) -> UserRead:
    users = services_of(request).auth.users
    account = await users.create(
        data.email, data.password, superuser=data.is_superuser, scopes=data.scopes
    )
    if account is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "A user with this email exists")
    return account.read()


# `:int`, so that `/users/me` is never taken for a user's id (a PATCH to it is a 405).
@router.get("/users/{user_id:int}", tags=["users"], responses=described(404, USER_NOT_FOUND))
async def read_user(request: Request, _: Superuser, user_id: Id) -> UserRead:
    account = await services_of(request).auth.users.by_id(user_id)
    if account is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, USER_NOT_FOUND)
    return account.read()


@router.patch(
    "/users/{user_id:int}",
    tags=["users"],
    responses={
        **described(404, USER_NOT_FOUND),
        **described(status.HTTP_409_CONFLICT, "A user with this email exists"),
    },
)
async def update_user(request: Request, _: Superuser, user_id: Id, data: UserUpdate) -> UserRead:
    """Change a user; `is_active: false` deactivates them and ends their sessions."""
    try:
        account = await services_of(request).auth.users.change(
            user_id, data.model_dump(exclude_unset=True)
        )
    except EmailTaken:
        raise HTTPException(status.HTTP_409_CONFLICT, "A user with this email exists") from None
    if account is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, USER_NOT_FOUND)
    return account.read()
