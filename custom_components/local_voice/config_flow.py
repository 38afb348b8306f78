"""Config flow: one host and the ports of the Local Voice services, each checked first."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlparse

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST
from homeassistant.core import callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

from .client import ServiceCheckError, async_check_service, async_describe, kind_of
from .const import (
    CONF_HISTORY_TURNS,
    CONF_PREFER_LOCAL,
    CONF_SERVICES,
    DEFAULT_HISTORY_TURNS,
    DEFAULT_HOST,
    DEFAULT_PORTS,
    DOMAIN,
    MAX_HISTORY_TURNS,
    PORT_KEYS,
    ServiceKind,
)

_LOGGER = logging.getLogger(__name__)


def configured_kinds(data: dict[str, Any]) -> list[ServiceKind]:
    """The services an entry (or form input) has a port for."""
    return [kind for kind, key in PORT_KEYS.items() if data.get(key)]


def _form_schema(values: dict[str, Any]) -> vol.Schema:
    fields: dict[Any, Any] = {
        vol.Required(CONF_HOST, default=values.get(CONF_HOST, DEFAULT_HOST)): str
    }
    for key in PORT_KEYS.values():
        # Optional so a service the user does not run can be left blank.
        suggested = {"suggested_value": values[key]} if values.get(key) else None
        fields[vol.Optional(key, description=suggested)] = cv.port
    return vol.Schema(fields)


async def _async_validate(data: dict[str, Any]) -> dict[str, str]:
    """Errors per form field; empty when every given port is the right service."""
    kinds = configured_kinds(data)
    if not kinds:
        return {"base": "no_services"}
    errors: dict[str, str] = {}
    for kind in kinds:
        key = PORT_KEYS[kind]
        try:
            await async_check_service(data[CONF_HOST], int(data[key]), kind)
        except ServiceCheckError as err:
            _LOGGER.debug("%s on %s:%s: %s", kind, data[CONF_HOST], data[key], err.reason)
            errors[key] = err.reason
    return errors


async def _async_default_ports(host: str) -> dict[str, int]:
    """The default ports to suggest: those where the right service answers (`script/run`
    starts only the installed services), or all of them when none answers."""
    kinds = list(DEFAULT_PORTS)
    infos = await asyncio.gather(
        *(async_describe(host, DEFAULT_PORTS[kind], timeout=0.5) for kind in kinds)
    )
    found = {
        PORT_KEYS[kind]: DEFAULT_PORTS[kind]
        for kind, info in zip(kinds, infos, strict=True)
        if info is not None and kind_of(info) == kind
    }
    return found or {PORT_KEYS[kind]: port for kind, port in DEFAULT_PORTS.items()}


def _clean(user_input: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {CONF_HOST: str(user_input[CONF_HOST]).strip()}
    for key in PORT_KEYS.values():
        if user_input.get(key):
            data[key] = int(user_input[key])
    return data


class LocalVoiceConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add the Local Voice services running on one host."""

    VERSION = 1

    def __init__(self) -> None:
        self._discovered: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> LocalVoiceOptionsFlow:
        return LocalVoiceOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        defaults: dict[str, Any] = {
            CONF_HOST: DEFAULT_HOST,
            **await _async_default_ports(self._discovered.get(CONF_HOST, DEFAULT_HOST)),
            **self._discovered,
        }
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _clean(user_input)
            await self.async_set_unique_id(data[CONF_HOST])
            self._abort_if_unique_id_configured()
            if not (errors := await _async_validate(data)):
                return self.async_create_entry(title=f"Local Voice ({data[CONF_HOST]})", data=data)
            defaults = data
        return self.async_show_form(
            step_id="user", data_schema=_form_schema(defaults), errors=errors
        )

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        return await self._async_discovered(discovery_info.host, discovery_info.port)

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        uri = urlparse(str(discovery_info.config.get("uri", "")))
        if uri.hostname is None or uri.port is None:
            return self.async_abort(reason="not_local_voice")
        return await self._async_discovered(uri.hostname, uri.port)

    async def _async_discovered(self, host: str, port: int | None) -> ConfigFlowResult:
        """A discovered service pre-fills the user form with its host and port."""
        info = await async_describe(host, port) if port else None
        kind = kind_of(info) if info else None
        if kind is None or port is None:
            return self.async_abort(reason="not_local_voice")
        await self.async_set_unique_id(host)
        self._abort_if_unique_id_configured()
        self._discovered = {CONF_HOST: host, PORT_KEYS[kind]: port}
        self.context["title_placeholders"] = {"name": f"Local Voice ({host})"}
        return await self.async_step_user()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        values: dict[str, Any] = dict(entry.data)
        if user_input is not None:
            data = _clean(user_input)
            if data[CONF_HOST] != entry.unique_id:
                # Another host: it must not be one that already has an entry.
                await self.async_set_unique_id(data[CONF_HOST])
                self._abort_if_unique_id_configured()
            if not (errors := await _async_validate(data)):
                # Keep what setup recorded (its pipeline, its Wyoming entries).
                kept = {k: v for k, v in entry.data.items() if k not in PORT_KEYS.values()}
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=data[CONF_HOST],
                    data={**kept, **data},
                    title=f"Local Voice ({data[CONF_HOST]})",
                )
            values = data
        return self.async_show_form(
            step_id="reconfigure", data_schema=_form_schema(values), errors=errors
        )


class LocalVoiceOptionsFlow(OptionsFlow):
    """Which services to use, local intent handling first, and conversation history."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        available = configured_kinds(dict(self.config_entry.data))
        options = self.config_entry.options
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_SERVICES, default=list(options.get(CONF_SERVICES, available))
                ): cv.multi_select({kind.value: kind.value for kind in available}),
                vol.Required(
                    CONF_PREFER_LOCAL, default=bool(options.get(CONF_PREFER_LOCAL, True))
                ): bool,
                vol.Required(
                    CONF_HISTORY_TURNS,
                    default=int(options.get(CONF_HISTORY_TURNS, DEFAULT_HISTORY_TURNS)),
                ): vol.All(vol.Coerce(int), vol.Range(min=0, max=MAX_HISTORY_TURNS)),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema)
