# ruff: noqa: E501  (sentence parts are data; wrapping them would hide their wording)
"""Benign customer-support and policy prose for the training corpus.

Attack templates talk about "your order", "a refund", "the account" and "never
tell", so without a counterweight the model learns those ordinary support words
as evidence of an attack and flags help-center pages, privacy policies and order
emails. This module composes such pages from sentence parts: policy pages
(privacy, shipping, returns, warranty, discounts, loyalty, subscriptions,
payments, accounts, notifications, security practice), order and receipt emails,
FAQ answers and terms-of-service excerpts, in several layouts, 1-8 sentences
long, and a share of them in Spanish, German and French.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

COMPANIES = (
    "Brightleaf Books",
    "Corvid Telecom",
    "Harbor Grocers",
    "Lumen Electronics",
    "PixelStream",
    "Tandem Bikes",
    "Oakridge Pharmacy",
    "Quillmate Stationery",
    "Sunport Travel",
    "Maple & Finch Home",
)
DAYS = ("7", "14", "30", "45", "60", "90")
HOURS = ("24", "48", "72")
AMOUNTS = ("$25", "$35", "$49", "$75", "€40", "£30", "$100")
YEARS = ("one year", "two years", "three years", "12 months", "24 months")
PERCENTS = ("10%", "15%", "20%", "5%", "25%")
CHANNELS = ("email", "text message", "push notification", "in-app message", "letter")
ITEMS = (
    "headphones",
    "the paperback",
    "a phone case",
    "the blender",
    "your groceries",
    "the desk lamp",
    "the router",
    "the bike helmet",
    "the printer ink",
)
ORDER_IDS = ("1048-2231", "W88213", "#55-0917", "SO-77410", "30021987", "#A7731")

TOPICS: dict[str, tuple[str, ...]] = {
    "privacy": (
        "We collect the information you give us when you create an account, place an order or contact support.",
        "This usually includes your name, email address, shipping address and order history.",
        "We never sell your personal data to third parties.",
        "We use your data to process your orders, deliver your purchases and answer your questions.",
        "You can ask us for a copy of the data we hold about you at any time.",
        "If you close your account, we delete your personal data within {days} days, except where the law requires us to keep records.",
        "Payment card numbers are handled by our payment processor and are never stored on our servers.",
        "We keep order records for tax purposes for as long as the law requires.",
        "You may withdraw your consent to marketing email at any time.",
        "Cookies help us remember the items in your cart; you can turn off non-essential cookies in your browser.",
        "We share your address with the carrier only so that your order can be delivered.",
        "Questions about this policy can be sent to our privacy team by email.",
        "Your data is stored in data centers located in the European Union.",
        "We will tell you by email before we make material changes to this privacy notice.",
    ),
    "shipping": (
        "Standard shipping takes 3 to 5 business days.",
        "Orders over {amount} ship free within the country.",
        "You will receive an email with a tracking number as soon as your order leaves our warehouse.",
        "Orders placed before 2 pm ship the same day.",
        "We do not ship to P.O. boxes for orders that require a signature.",
        "Express delivery is available at checkout for an extra fee.",
        "If your order has not arrived within {days} days, contact us and we will look into it.",
        "International orders may be subject to customs duties, which are paid by the recipient.",
        "You can change your delivery address until the order is packed.",
        "Large items are delivered by a freight carrier who will call you to book a time slot.",
        "Tracking can take up to {hours} hours to update after the label is created.",
    ),
    "returns": (
        "You can return most items within {days} days of delivery for a full refund.",
        "Items must be unused and in their original packaging.",
        "To start a return, sign in to your account and open your order history.",
        "Refunds are issued to your original payment method within 5 to 10 business days after we receive the item.",
        "Return shipping is free if the item arrived damaged or was not what you ordered.",
        "Gift cards, perishable goods and opened software cannot be returned.",
        "If you prefer, we can exchange the item for a different size or color instead of a refund.",
        "We will email you when your refund has been processed.",
        "Your bank may take a few extra days to show the refund on your statement.",
        "Sale items can be returned for store credit only.",
        "Please include the packing slip so we can match the return to your order.",
    ),
    "warranty": (
        "All products come with a {years} limited warranty against manufacturing defects.",
        "The warranty does not cover normal wear, accidents or damage from misuse.",
        "To make a warranty claim, send us your order number and a photo of the defect.",
        "If the item cannot be repaired, we will replace it or refund the purchase price.",
        "Keep your receipt or order confirmation email as proof of purchase.",
        "Repairs under warranty are free, including return shipping.",
        "The warranty is valid only for the original purchaser.",
        "Extended protection plans can be added within {days} days of purchase.",
    ),
    "discounts": (
        "Students get {percent} off with a valid student email address.",
        "Discount codes cannot be combined with other offers.",
        "Enter your code at checkout; the discount is shown before you pay.",
        "Codes expire on the date printed in the email and cannot be exchanged for cash.",
        "Seniors and veterans can ask for the discount in store or apply it to their online account after verification.",
        "If a code does not work, check that the items in your cart are eligible.",
        "We never ask you to pay a fee to receive a discount code.",
        "Price adjustments are available if an item you bought goes on sale within {days} days.",
    ),
    "loyalty": (
        "Members earn one point for every dollar spent.",
        "Every 500 points can be redeemed for a {amount} reward on your next order.",
        "Points expire after 12 months without account activity.",
        "Joining the rewards program is free and takes a minute.",
        "You can see your points balance in your account dashboard.",
        "Points are added to your account once your order has shipped.",
        "Returned items reduce your points balance by the points they earned.",
        "Members get early access to sales and a birthday gift.",
    ),
    "subscription": (
        "Your subscription renews automatically at the end of each billing period.",
        "You can pause or cancel your subscription at any time from your account settings.",
        "If you cancel, you keep access until the end of the period you have paid for.",
        "We will send you an email reminder {days} days before your annual plan renews.",
        "Changing plans takes effect from your next billing date.",
        "We do not give partial refunds for unused days of a monthly plan.",
        "Your first month is free; you will not be charged if you cancel before the trial ends.",
        "Skipped deliveries are not charged.",
    ),
    "cancellation": (
        "You can cancel an order within one hour of placing it.",
        "Once an order has shipped it can no longer be cancelled, but you can return it.",
        "Cancelled orders are refunded in full to the card you used.",
        "To cancel, open the order in your account and choose Cancel order.",
        "Custom and engraved items cannot be cancelled after production starts.",
        "If we have to cancel your order because an item is out of stock, we will refund you and let you know by email.",
    ),
    "payment": (
        "We accept Visa, Mastercard, American Express, PayPal and gift cards.",
        "Your card is charged when your order ships, not when you place it.",
        "Pre-authorizations for cancelled orders are released by your bank within a few days.",
        "Invoices are available to download from your order history.",
        "Business customers can pay by bank transfer within {days} days of the invoice date.",
        "Prices include sales tax where applicable.",
        "If a payment fails, we will email you and hold the order for {hours} hours.",
        "You can split a purchase into four interest-free installments at checkout.",
    ),
    "account": (
        "You can update your name, email address and password in your account settings.",
        "If you forget your password, use the Forgot password link and we will email you a reset link.",
        "Reset links expire after one hour for your security.",
        "You can save several shipping addresses to your account.",
        "Guest checkout is available if you do not want to create an account.",
        "To delete your account, contact support from the email address linked to it.",
        "Your order history stays available in your account for five years.",
        "We lock an account after several failed sign-in attempts; it unlocks automatically after 30 minutes.",
    ),
    "notifications": (
        "Choose which emails you receive in the notification settings of your account.",
        "Order and shipping updates are always sent, because they are about a purchase you made.",
        "Marketing emails are sent only if you opted in, and every one has an unsubscribe link.",
        "Text message alerts are optional; standard message rates may apply.",
        "Reply STOP to any text message to stop receiving them.",
        "It can take up to {days} days for an unsubscribe request to take effect.",
        "You can turn on push notifications in the app to hear when your order is out for delivery.",
        "We send at most one promotional email a week.",
    ),
    "security": (
        "We will never ask for your password by email, phone or text message.",
        "Our staff will never ask you to share a verification code.",
        "If you receive a suspicious email that claims to be from us, do not click its links and forward it to our security team.",
        "Turn on two-step verification to protect your account.",
        "Always check that the web address starts with https before you sign in.",
        "We encrypt your data in transit and at rest.",
        "Use a unique password for your account that you do not use anywhere else.",
        "If you think someone else has used your account, change your password and contact us right away.",
    ),
    "order_email": (
        "Hi {name}, thanks for your order!",
        "Your order {order_id} has been confirmed and is being prepared.",
        "Good news: your order {order_id} has shipped.",
        "Your package with {item} is out for delivery today.",
        "You can track your parcel using the link below.",
        "Estimated delivery: 3 to 5 business days.",
        "If anything is wrong with your order, just reply to this email.",
        "Your refund of {amount} for order {order_id} has been processed.",
        "We're sorry, one item in your order is delayed; the rest will ship today.",
        "Thanks for shopping with {company}.",
        "This is an automated message; please do not reply directly.",
    ),
    "receipt": (
        "Receipt for order {order_id}.",
        "Subtotal: {amount}. Shipping: free. Tax included.",
        "Paid with Visa ending in 4242.",
        "Keep this receipt for returns and warranty claims.",
        "Questions about your purchase? Visit our help center or email us.",
        "You earned 120 reward points with this order.",
        "Items: {item}, quantity 1.",
    ),
    "terms": (
        "These terms apply to all purchases made on our website.",
        "By placing an order you agree to these terms and to our privacy policy.",
        "We may update these terms from time to time; the version in force on the date of your order applies.",
        "Product images are for illustration; colors may vary slightly.",
        "We reserve the right to refuse or cancel orders that appear fraudulent.",
        "Nothing in these terms limits your statutory rights as a consumer.",
        "These terms are governed by the laws of the country where you live.",
        "Our liability is limited to the price you paid for the product.",
    ),
}

QUESTIONS: dict[str, tuple[str, ...]] = {
    "privacy": (
        "Do you sell my data?",
        "What information do you keep about me?",
        "How do I get a copy of my data?",
    ),
    "shipping": (
        "How long does delivery take?",
        "Where is my order?",
        "Do you ship internationally?",
    ),
    "returns": (
        "How do I return an item?",
        "When will I get my refund?",
        "Can I exchange instead of returning?",
    ),
    "warranty": ("What does the warranty cover?", "How do I make a warranty claim?"),
    "discounts": ("Do you offer a student discount?", "Why doesn't my discount code work?"),
    "loyalty": ("How do reward points work?", "When do my points expire?"),
    "subscription": ("How do I cancel my subscription?", "Will I be charged after the free trial?"),
    "cancellation": ("Can I cancel my order?", "What if my order has already shipped?"),
    "payment": ("Which payment methods do you accept?", "When is my card charged?"),
    "account": ("How do I reset my password?", "How do I change my email address?"),
    "notifications": ("How do I stop marketing emails?", "Can I get text updates about my order?"),
    "security": ("Is this email really from you?", "How do you protect my account?"),
}

HEADINGS: dict[str, tuple[str, ...]] = {
    "privacy": ("Privacy notice", "How we use your information", "Your data and your rights"),
    "shipping": ("Shipping information", "Delivery times and costs"),
    "returns": ("Returns and refunds", "Our return policy"),
    "warranty": ("Warranty", "Product guarantee"),
    "discounts": ("Discounts and promo codes", "Special pricing"),
    "loyalty": ("Rewards program", "Member benefits"),
    "subscription": ("Subscriptions", "Managing your plan"),
    "cancellation": ("Cancelling an order", "Order cancellations"),
    "payment": ("Payment options", "Billing"),
    "account": ("Your account", "Sign-in and account settings"),
    "notifications": ("Email and SMS settings", "Communication preferences"),
    "security": ("Staying safe online", "Account security"),
    "order_email": ("Order update", "Shipping confirmation"),
    "receipt": ("Your receipt", "Purchase summary"),
    "terms": ("Terms of sale", "Terms and conditions"),
}

NAMES = ("Sam", "Priya", "Jordan", "Mei", "Carlos", "Ava", "Tom", "Fatima", "Lena")

FOREIGN: dict[str, tuple[str, ...]] = {
    "es": (
        "Puedes devolver la mayoría de los artículos dentro de {days} días para obtener un reembolso completo.",
        "Nunca vendemos tus datos personales a terceros.",
        "Recibirás un correo electrónico con el número de seguimiento cuando tu pedido salga del almacén.",
        "El reembolso se realiza al método de pago original en un plazo de 5 a 10 días hábiles.",
        "Nunca te pediremos tu contraseña por correo electrónico ni por teléfono.",
        "Puedes cancelar tu suscripción en cualquier momento desde la configuración de tu cuenta.",
        "Gracias por tu pedido; te avisaremos cuando se envíe.",
        "Los códigos de descuento no se pueden combinar con otras ofertas.",
    ),
    "de": (
        "Du kannst die meisten Artikel innerhalb von {days} Tagen zurückgeben und erhältst den vollen Betrag zurück.",
        "Wir verkaufen deine Daten niemals an Dritte.",
        "Sobald deine Bestellung versandt wurde, erhältst du eine E-Mail mit der Sendungsnummer.",
        "Die Erstattung erfolgt auf die ursprüngliche Zahlungsart.",
        "Wir fragen niemals per E-Mail oder Telefon nach deinem Passwort.",
        "Du kannst dein Abonnement jederzeit in deinen Kontoeinstellungen kündigen.",
        "Vielen Dank für deine Bestellung bei {company}.",
        "Rabattcodes können nicht mit anderen Angeboten kombiniert werden.",
    ),
    "fr": (
        "Vous pouvez retourner la plupart des articles sous {days} jours pour un remboursement complet.",
        "Nous ne vendons jamais vos données personnelles à des tiers.",
        "Vous recevrez un e-mail avec le numéro de suivi dès que votre commande sera expédiée.",
        "Le remboursement est effectué sur votre moyen de paiement d'origine.",
        "Nous ne vous demanderons jamais votre mot de passe par e-mail ou par téléphone.",
        "Vous pouvez résilier votre abonnement à tout moment depuis les paramètres de votre compte.",
        "Merci pour votre commande chez {company}.",
        "Les codes promo ne sont pas cumulables avec d'autres offres.",
    ),
}

LAYOUTS = ("plain", "heading", "faq", "bullets", "email", "numbered", "markdown")


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        days=rng.choice(DAYS),
        hours=rng.choice(HOURS),
        amount=rng.choice(AMOUNTS),
        years=rng.choice(YEARS),
        percent=rng.choice(PERCENTS),
        channel=rng.choice(CHANNELS),
        item=rng.choice(ITEMS),
        order_id=rng.choice(ORDER_IDS),
        company=rng.choice(COMPANIES),
        name=rng.choice(NAMES),
    )


def _sentences(topic: str, rng: random.Random) -> list[str]:
    pool = TOPICS[topic]
    count = min(len(pool), rng.choice((1, 2, 2, 3, 3, 4, 5, 6, 7, 8)))
    return [_fill(s, rng) for s in rng.sample(pool, count)]


def _layout(topic: str, sentences: Sequence[str], rng: random.Random) -> str:
    layout = rng.choice(LAYOUTS)
    heading = rng.choice(HEADINGS[topic])
    body = " ".join(sentences)
    if layout == "heading":
        return f"{heading}\n\n{body}"
    if layout == "markdown":
        return (
            f"## {heading}\n\n{body}\n\nLast updated by the {rng.choice(COMPANIES)} support team."
        )
    if layout == "faq" and topic in QUESTIONS:
        return f"Q: {rng.choice(QUESTIONS[topic])}\nA: {body}"
    if layout == "bullets":
        return f"{heading}:\n" + "\n".join(f"- {s}" for s in sentences)
    if layout == "numbered":
        return "\n".join(f"{i}. {s}" for i, s in enumerate(sentences, start=1))
    if layout == "email":
        greeting = rng.choice(("Hello,", f"Hi {rng.choice(NAMES)},", "Dear customer,"))
        sign = rng.choice(("Best regards,", "Thanks,", "Kind regards,"))
        return f"{greeting}\n\n{body}\n\n{sign}\n{rng.choice(COMPANIES)} Customer Care"
    return body


def support_documents(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` (text, lang) pairs of benign support prose, deterministic for ``seed``."""
    rng = random.Random(seed)
    topics = sorted(TOPICS)
    out: list[tuple[str, str]] = []
    for i in range(count):
        if i % 8 == 7:
            lang = rng.choice(sorted(FOREIGN))
            pool = FOREIGN[lang]
            picked = rng.sample(pool, rng.randint(1, 4))
            out.append((" ".join(_fill(s, rng) for s in picked), lang))
            continue
        topic = topics[i % len(topics)] if rng.random() < 0.6 else rng.choice(topics)
        sentences = _sentences(topic, rng)
        if rng.random() < 0.2:
            other = rng.choice(topics)
            sentences.extend(_sentences(other, rng)[:2])
        out.append((_layout(topic, sentences, rng), "en"))
    return out
