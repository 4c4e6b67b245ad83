"""HTTP endpoints for categories: public to read, admins to change."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody

from backend.core.categories import services
from backend.core.categories.schemas import CategoryIn, CategoryList, CategoryOut, CategoryPatch
from backend.deps import ActorDep, RuntimeDep
from backend.lib.http import errors


class CategoryController(Controller):
    path = "/api/v1/categories"
    tags = ["categories"]

    @get(
        "/",
        operation_id="listCategories",
        summary="Active categories of essential information",
        responses=errors(400),
    )
    async def list_categories(self, rt: RuntimeDep) -> CategoryList:
        return await services.list_categories(rt)

    @post("/", operation_id="createCategory", summary="Add a category", responses=errors(400, 401, 403, 409))
    async def create(self, rt: RuntimeDep, actor: ActorDep, data: JSONBody[CategoryIn]) -> CategoryOut:
        return await services.create(rt, actor, data)

    @patch(
        "/{code:str}",
        operation_id="updateCategory",
        summary="Rename, reorder or deactivate a category",
        responses=errors(400, 401, 403, 404),
    )
    async def update(
        self, rt: RuntimeDep, actor: ActorDep, code: FromPath[str], data: JSONBody[CategoryPatch]
    ) -> CategoryOut:
        return await services.update(rt, actor, code, data)
