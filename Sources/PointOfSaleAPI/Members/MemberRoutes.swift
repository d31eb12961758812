import Foundation
import Hummingbird
import LedgerStore
import LoyaltyCore

/// What the CLI does for a member at the till, for a POS: enrol, change the profile, add a card, list
/// and use coupons. The same ledger calls, rules, errors and JSON as `loyalty-agent enroll`, `profile`,
/// `cards add`, `coupon list` and `coupon use --json`.
extension PointOfSaleRouter {
    struct CouponsResult: Encodable {
        var card: String
        var coupons: [CouponView]
    }

    func addMemberRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/enrolments") { request, context in
            await handle {
                let body = try await decode(EnrolmentRequest.self, request, context)
                let rules = cardRules()
                let card = try rules.memberCard(typed: body.card)
                await learnCards?([card])
                let result = try ledger.enroll(
                    card: card, name: try body.name.map(MemberName.validated),
                    birthday: try body.birthday.map(CalendarDate.init(parsing:)),
                    referredBy: try body.referredBy.map { try rules.memberCard(typed: $0) })
                showOnKiosk(card)
                return JSONResponses.json(.ok, result)
            }
        }
        router.post("/v1/members/:card/profile") { request, context in
            await handle {
                let card = try cardRules().memberCard(typed: context.parameters.get("card") ?? "")
                let body = try await decode(ProfileRequest.self, request, context)
                guard body.name != nil || body.birthday != nil else {
                    throw LoyaltyError.badInput("nothing_to_change", "give `name` or `birthday` (or both)")
                }
                let member = try ledger.updateProfile(
                    card: card, name: try body.name.map(MemberName.validated),
                    birthday: try body.birthday.map(CalendarDate.init(parsing:)))
                return JSONResponses.json(.ok, member)
            }
        }
        router.post("/v1/members/:card/cards") { request, context in
            await handle {
                let rules = cardRules()
                let existing = try rules.memberCard(typed: context.parameters.get("card") ?? "")
                let new = try rules.memberCard(typed: try await decode(AddedCardRequest.self, request, context).card)
                guard existing != new else {
                    throw LoyaltyError.badInput("same_card", "the card in the path and `card` are the same; give the card to add")
                }
                await learnCards?([existing, new])
                return JSONResponses.json(.ok, try ledger.addCard(new, toMemberOf: existing))
            }
        }
        router.get("/v1/members/:card/coupons") { _, context in
            await handle {
                let member = try ledger.member(card: try cardRules().memberCard(typed: context.parameters.get("card") ?? ""))
                return JSONResponses.json(.ok, CouponsResult(card: member.card, coupons: member.coupons))
            }
        }
        router.post("/v1/coupons/:code/use") { request, context in
            await handle {
                let body = try await decode(CouponUseRequest.self, request, context)
                let card = try cardRules().memberCard(typed: body.card)
                let result = try ledger.useCoupon(
                    code: context.parameters.get("code") ?? "", card: card, receipt: try ReceiptReference(body.receipt))
                return JSONResponses.json(.ok, result)
            }
        }
    }
}
